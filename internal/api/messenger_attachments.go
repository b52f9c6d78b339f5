package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
)

// attachmentURL is where an upload is served (relative to Parley's
// origin).
func attachmentURL(a *store.Attachment) string {
	return "/messenger/v1/attachments/" + a.ID + "/" + url.PathEscape(a.Name)
}

// attachmentPath is the file of an upload: the data directory, the
// workspace, the random id. Nothing the client sends becomes a path.
func (m *messengerAPI) attachmentPath(ws, id string) string {
	return filepath.Join(m.s.opts.AttachmentDir, ws, id)
}

// cleanName keeps a displayable file name: the base name, printable,
// at most 200 bytes.
func cleanName(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 200 {
		_, size := lastRune(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	return name
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// upload is POST /messenger/v1/attachments (multipart, field "file").
func (m *messengerAPI) upload(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	if m.s.opts.AttachmentDir == "" {
		return notFound("not_found", "Uploads are not enabled on this server")
	}
	limit := vs.cfg.Settings.UploadMaxBytes
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10) // multipart framing
	mr, err := r.MultipartReader()
	if err != nil {
		return errf(http.StatusBadRequest, "bad_request", "Send the file as multipart/form-data in a field named file")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return missing("file")
		}
		if err != nil {
			return uploadReadErr(err, limit)
		}
		if part.FormName() != "file" {
			continue
		}
		return m.store(w, r, part, cleanName(part.FileName()), limit)
	}
}

func uploadReadErr(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errf(http.StatusRequestEntityTooLarge, "file_too_large", "The file is larger than %d bytes", limit)
	}
	return errf(http.StatusBadRequest, "bad_request", "Could not read the upload")
}

// store writes the upload to disk, checking its size and sniffed type,
// then records it.
func (m *messengerAPI) store(w http.ResponseWriter, r *http.Request, part io.Reader, name string, limit int64) error {
	vs := sessionOf(r)
	head := make([]byte, 512)
	n, err := io.ReadFull(part, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return uploadReadErr(err, limit)
	}
	head = head[:n]
	if n == 0 {
		return fieldErr("file", "the file is empty")
	}
	ctype, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	if !slices.Contains(vs.cfg.Settings.UploadTypes, ctype) {
		return errf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Files of type %s are not accepted here (allowed: %s)", ctype, strings.Join(vs.cfg.Settings.UploadTypes, ", "))
	}
	dir := filepath.Join(m.s.opts.AttachmentDir, vs.ws)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	id := ids.Secret(18)
	path := m.attachmentPath(vs.ws, id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	size, err := io.Copy(f, io.MultiReader(bytes.NewReader(head), io.LimitReader(part, limit+1-int64(n))))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && size > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	if err != nil {
		os.Remove(path)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(http.StatusRequestEntityTooLarge, "file_too_large", "The file is larger than %d bytes", limit)
		}
		return uploadReadErr(err, limit)
	}
	a := &store.Attachment{WorkspaceID: vs.ws, ID: id, Name: name, ContentType: ctype, Size: size, Uploader: vs.sess.Subject}
	if err := m.st.CreateAttachment(r.Context(), a); err != nil {
		os.Remove(path)
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": a.ID, "name": a.Name, "content_type": a.ContentType, "size": a.Size, "url": attachmentURL(a)})
	return nil
}

// download is GET /messenger/v1/attachments/{id}/{name}: the file, for
// its uploader, the participants of its conversation (session token in
// Authorization or ?session_token=) and teammates (API token). Anyone
// else: 404.
func (m *messengerAPI) download(w http.ResponseWriter, r *http.Request) error {
	errNo := notFound("not_found", "Attachment not found")
	ctx := r.Context()
	token := r.URL.Query().Get("session_token")
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(t)
	}
	if token == "" {
		return errNo
	}
	var ws string
	var vs *visitorSession
	if strings.HasPrefix(token, "ms1.") {
		var err error
		if vs, err = m.resolve(ctx, token); err != nil {
			return errNo
		}
		ws = vs.ws
	} else {
		tok, err := m.s.tokenFor(ctx, token)
		if err != nil {
			return errNo
		}
		ws = tok.WorkspaceID
	}
	a, err := m.st.Attachment(ctx, ws, r.PathValue("id"))
	if isNotFound(err) {
		return errNo
	}
	if err != nil {
		return err
	}
	if vs != nil && !contains(vs.uploaders(), a.Uploader) {
		allowed := false
		if a.ConversationID != nil && vs.contact != nil {
			if allowed, err = m.st.IsParticipant(ctx, ws, *a.ConversationID, vs.contact.ID); err != nil {
				return err
			}
		}
		if !allowed {
			return errNo
		}
	}
	f, err := os.Open(m.attachmentPath(ws, a.ID))
	if errors.Is(err, os.ErrNotExist) {
		return errNo
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	disposition := "attachment"
	if strings.HasPrefix(a.ContentType, "image/") {
		disposition = "inline"
	}
	h.Set("Content-Disposition", fmt.Sprintf("%s; filename*=UTF-8''%s", disposition, url.PathEscape(a.Name)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, f)
	}
	return nil
}
