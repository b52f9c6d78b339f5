package web

// Teammates' avatars (docs/web.md "Profile"): uploaded on the profile page,
// stored in the database (store.SetAdminAvatar, so every node serves them),
// served publicly at a versioned URL that the API's admin object returns.

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders for image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/internal/store"
)

const (
	maxAvatarBytes = 512 << 10
	maxAvatarSide  = 4096
)

// avatarTypes are the pictures accepted, by the type their bytes show.
var avatarTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif"}

func (s *Server) avatarRoutes(mux *http.ServeMux) {
	mux.Handle("POST /app/profile/avatar", s.page(nil, s.saveAvatar))
	mux.HandleFunc("GET /avatars/{ws}/{admin}/{version}", s.serveAvatar)
}

// saveAvatar stores the uploaded picture (PNG, JPEG or GIF, at most 512 KB
// and 4096 px a side) or, with remove=1, removes it.
func (s *Server) saveAvatar(w http.ResponseWriter, r *http.Request, v *visit) error {
	var av *store.Avatar
	if r.PostFormValue("remove") != "1" {
		var err error
		if av, err = readAvatar(r); err != nil {
			vw := v.view("Your profile", "profile", profileData{Name: v.admin.Name})
			vw.Error = err.Error()
			s.render(w, http.StatusBadRequest, "profile", vw)
			return nil
		}
		av.Version = s.opts.Now().UnixMilli()
	}
	_, err := s.sessions.SetAdminAvatar(r.Context(), v.ws.ID, v.admin.ID, av, func(version int64) string {
		return s.baseURL(r) + fmt.Sprintf("/avatars/%s/%d/%d", v.ws.ID, v.admin.ID, version)
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/profile?saved=1", http.StatusSeeOther)
	return nil
}

// readAvatar reads and checks the form's picture; its errors are the
// message shown to the teammate.
func readAvatar(r *http.Request) (*store.Avatar, error) {
	f, _, err := r.FormFile("avatar")
	if err != nil {
		return nil, errors.New("Choose a picture to upload (PNG, JPEG or GIF).")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAvatarBytes+1))
	if err != nil {
		return nil, errors.New("The picture could not be read. Try again.")
	}
	if len(data) > maxAvatarBytes {
		return nil, fmt.Errorf("The picture is larger than %d KB. Choose a smaller one.", maxAvatarBytes>>10)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	ct, ok := avatarTypes[format]
	if err != nil || !ok {
		return nil, errors.New("This file is not a PNG, JPEG or GIF picture.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxAvatarSide || cfg.Height > maxAvatarSide {
		return nil, fmt.Errorf("The picture must be at most %d pixels wide and high.", maxAvatarSide)
	}
	return &store.Avatar{ContentType: ct, Data: data}, nil
}

// serveAvatar serves a teammate's picture to anyone with its URL (the
// Messenger shows teammates' avatars to visitors); an old version's URL
// is a 404, and the current one is cached for a year.
func (s *Server) serveAvatar(w http.ResponseWriter, r *http.Request) {
	id, err1 := strconv.ParseInt(r.PathValue("admin"), 10, 64)
	version, err2 := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err1 != nil || err2 != nil {
		http.NotFound(w, r)
		return
	}
	av, err := s.sessions.AdminAvatar(r.Context(), r.PathValue("ws"), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && av.Version != version) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "The picture could not be read.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", av.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(av.Data)
}
