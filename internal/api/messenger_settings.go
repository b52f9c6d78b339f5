package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/messenger"
	"github.com/parleyhq/parley/internal/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type identityVerificationJSON struct {
	Enforced bool   `json:"enforced"`
	Secret   string `json:"secret"`
}

func settingsOut(cfg *store.MessengerConfig) map[string]any {
	st := cfg.Settings
	return map[string]any{"type": "messenger_settings", "app_name": st.AppName, "color": st.Color,
		"secondary_color": st.SecondaryColor, "alignment": st.Alignment, "horizontal_padding": st.HorizontalPadding,
		"vertical_padding": st.VerticalPadding, "greeting": st.Greeting, "reply_time": st.ReplyTime,
		"office_hours": st.OfficeHours, "upload_max_bytes": st.UploadMaxBytes, "upload_types": st.UploadTypes,
		"identity_verification": identityVerificationJSON{Enforced: cfg.Enforced, Secret: cfg.Secret}, "updated_at": cfg.UpdatedAt}
}

// getSettings is GET /messenger/settings (API token, Parley extension).
func (m *messengerAPI) getSettings(w http.ResponseWriter, r *http.Request) error {
	cfg, err := m.st.Config(r.Context(), authOf(r.Context()).WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsOut(cfg))
	return nil
}

// putSettings is PUT /messenger/settings: any subset of the fields.
func (m *messengerAPI) putSettings(w http.ResponseWriter, r *http.Request) error {
	ws := authOf(r.Context()).WorkspaceID
	var in struct {
		AppName           opt[string]                `json:"app_name"`
		Color             opt[string]                `json:"color"`
		SecondaryColor    opt[string]                `json:"secondary_color"`
		Alignment         opt[string]                `json:"alignment"`
		HorizontalPadding opt[int]                   `json:"horizontal_padding"`
		VerticalPadding   opt[int]                   `json:"vertical_padding"`
		Greeting          opt[string]                `json:"greeting"`
		ReplyTime         opt[string]                `json:"reply_time"`
		OfficeHours       opt[messenger.OfficeHours] `json:"office_hours"`
		UploadMaxBytes    opt[int64]                 `json:"upload_max_bytes"`
		UploadTypes       opt[[]string]              `json:"upload_types"`
		Identity          opt[struct {
			Enforced     opt[bool]   `json:"enforced"`
			Secret       opt[string] `json:"secret"`
			RotateSecret opt[bool]   `json:"rotate_secret"`
		}] `json:"identity_verification"`
		RotateSessionKey opt[bool] `json:"rotate_session_key"`
	}
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	cfg, err := m.st.Config(r.Context(), ws)
	if err != nil {
		return err
	}
	st := &cfg.Settings
	setStr := func(o opt[string], dst *string) {
		if o.Set && !o.Null {
			*dst = o.Value
		}
	}
	setStr(in.AppName, &st.AppName)
	setStr(in.Color, &st.Color)
	setStr(in.SecondaryColor, &st.SecondaryColor)
	setStr(in.Alignment, &st.Alignment)
	setStr(in.Greeting, &st.Greeting)
	setStr(in.ReplyTime, &st.ReplyTime)
	if in.HorizontalPadding.Set && !in.HorizontalPadding.Null {
		st.HorizontalPadding = in.HorizontalPadding.Value
	}
	if in.VerticalPadding.Set && !in.VerticalPadding.Null {
		st.VerticalPadding = in.VerticalPadding.Value
	}
	if in.OfficeHours.Set && !in.OfficeHours.Null {
		st.OfficeHours = in.OfficeHours.Value
	}
	if in.UploadMaxBytes.Set && !in.UploadMaxBytes.Null {
		st.UploadMaxBytes = in.UploadMaxBytes.Value
	}
	if in.UploadTypes.Set && !in.UploadTypes.Null {
		st.UploadTypes = in.UploadTypes.Value
	}
	if err := st.Validate(); err != nil {
		var se *messenger.SettingsError
		if errors.As(err, &se) {
			return fieldErr(se.Field, "%s", se.Message)
		}
		return err
	}
	rotate := in.RotateSessionKey.Value
	if id := in.Identity.Value; in.Identity.Set && !in.Identity.Null {
		if id.Secret.Set {
			if id.Secret.Null || len(id.Secret.Value) < 32 || len(id.Secret.Value) > 256 {
				return fieldErr("identity_verification.secret", "identity_verification.secret must be 32–256 characters")
			}
			cfg.Secret = id.Secret.Value
		}
		if id.RotateSecret.Value {
			cfg.Secret = ids.Secret(32)
		}
		if id.Enforced.Set && !id.Enforced.Null {
			// Turning enforcement on ends every session: those booted
			// without verification must prove who they are.
			rotate = rotate || (id.Enforced.Value && !cfg.Enforced)
			cfg.Enforced = id.Enforced.Value
		}
	}
	if err := m.st.SaveConfig(r.Context(), ws, cfg, rotate); err != nil {
		return err
	}
	m.configs.Delete(ws)
	writeJSON(w, http.StatusOK, settingsOut(cfg))
	return nil
}
