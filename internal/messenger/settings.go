package messenger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Settings are a workspace's Messenger settings (GET/PUT /messenger/settings).
// The identity-verification secret and the session key are stored beside
// them (messenger_settings) but are not part of this JSON.
type Settings struct {
	AppName           string      `json:"app_name"`
	Color             string      `json:"color"`
	SecondaryColor    string      `json:"secondary_color"`
	Alignment         string      `json:"alignment"`
	HorizontalPadding int         `json:"horizontal_padding"`
	VerticalPadding   int         `json:"vertical_padding"`
	Greeting          string      `json:"greeting"`
	ReplyTime         string      `json:"reply_time"`
	OfficeHours       OfficeHours `json:"office_hours"`
	UploadMaxBytes    int64       `json:"upload_max_bytes"`
	UploadTypes       []string    `json:"upload_types"`
}

// OfficeHours are intervals per weekday in a time zone ("" = the
// workspace's). No interval at all means always open.
type OfficeHours struct {
	TimeZone string                `json:"time_zone"`
	Days     map[string][]Interval `json:"-"`
}

// Interval is an opening, "HH:MM" to "HH:MM" the same day.
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Weekdays in the order settings show them.
var Weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// ReplyTimes are the accepted reply_time values.
var ReplyTimes = []string{"a few minutes", "a few hours", "a day"}

// DefaultUploadTypes are the content types accepted when none are set.
var DefaultUploadTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}

// MaxUploadBytes is the most upload_max_bytes may be set to.
const MaxUploadBytes = 100 << 20

// Defaults returns the settings of a workspace that set nothing.
func Defaults(appName string) Settings {
	return Settings{AppName: appName, Color: "#0057ff", SecondaryColor: "#1f2937", Alignment: "right",
		HorizontalPadding: 20, VerticalPadding: 20, Greeting: "Hi there 👋 How can we help?", ReplyTime: "a few minutes",
		OfficeHours: OfficeHours{Days: map[string][]Interval{}}, UploadMaxBytes: 10 << 20,
		UploadTypes: slices.Clone(DefaultUploadTypes)}
}

// SettingsError names the invalid field.
type SettingsError struct{ Field, Message string }

func (e *SettingsError) Error() string { return e.Message }

func bad(field, format string, args ...any) error {
	return &SettingsError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var (
	colorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
	typeRe  = regexp.MustCompile(`^[a-z]+/[a-z0-9.+-]+$`)
)

// Validate checks every field.
func (s *Settings) Validate() error {
	switch {
	case len(s.AppName) > 100:
		return bad("app_name", "app_name is longer than 100 bytes")
	case !colorRe.MatchString(s.Color):
		return bad("color", "color must be #rrggbb")
	case !colorRe.MatchString(s.SecondaryColor):
		return bad("secondary_color", "secondary_color must be #rrggbb")
	case s.Alignment != "left" && s.Alignment != "right":
		return bad("alignment", "alignment must be left or right")
	case s.HorizontalPadding < 0 || s.HorizontalPadding > 500:
		return bad("horizontal_padding", "horizontal_padding must be 0–500 pixels")
	case s.VerticalPadding < 0 || s.VerticalPadding > 500:
		return bad("vertical_padding", "vertical_padding must be 0–500 pixels")
	case len(s.Greeting) > 500:
		return bad("greeting", "greeting is longer than 500 bytes")
	case !slices.Contains(ReplyTimes, s.ReplyTime):
		return bad("reply_time", "reply_time must be one of %s", strings.Join(ReplyTimes, ", "))
	case s.UploadMaxBytes < 1 || s.UploadMaxBytes > MaxUploadBytes:
		return bad("upload_max_bytes", "upload_max_bytes must be 1–%d", MaxUploadBytes)
	case len(s.UploadTypes) == 0 || len(s.UploadTypes) > 50:
		return bad("upload_types", "upload_types must list 1–50 content types")
	}
	for _, t := range s.UploadTypes {
		if !typeRe.MatchString(t) {
			return bad("upload_types", "%q is not a content type such as image/png", t)
		}
	}
	if s.OfficeHours.TimeZone != "" {
		if _, err := time.LoadLocation(s.OfficeHours.TimeZone); err != nil {
			return bad("office_hours.time_zone", "office_hours.time_zone %q is not an IANA time zone", s.OfficeHours.TimeZone)
		}
	}
	for day, ivs := range s.OfficeHours.Days {
		if !slices.Contains(Weekdays, day) {
			return bad("office_hours."+day, "office_hours has no day %q", day)
		}
		if len(ivs) > 10 {
			return bad("office_hours."+day, "at most 10 intervals a day")
		}
		for _, iv := range ivs {
			if !clockRe.MatchString(iv.Start) || !clockRe.MatchString(iv.End) || iv.Start >= iv.End {
				return bad("office_hours."+day, "office_hours.%s intervals need start < end, as HH:MM", day)
			}
		}
	}
	return nil
}

func minutes(hhmm string) int {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return h*60 + m
}

// Availability is what the Messenger tells visitors about replies.
type Availability struct {
	Online        bool
	ExpectedReply string
}

// Available says whether the team is within office hours at now (in loc,
// the office hours' zone) and what to expect.
func (s *Settings) Available(now time.Time, loc *time.Location) Availability {
	online := "We usually reply in " + s.ReplyTime
	if len(s.OfficeHours.Days) == 0 || allEmpty(s.OfficeHours.Days) {
		return Availability{Online: true, ExpectedReply: online}
	}
	t := now.In(loc)
	// Look for the next opening minute by minute of the intervals, over
	// the coming week.
	for d := 0; d < 8; d++ {
		day := t.AddDate(0, 0, d)
		name := strings.ToLower(day.Weekday().String())
		var starts []int
		for _, iv := range s.OfficeHours.Days[name] {
			start, end := minutes(iv.Start), minutes(iv.End)
			if d == 0 {
				cur := t.Hour()*60 + t.Minute()
				if cur >= start && cur < end {
					return Availability{Online: true, ExpectedReply: online}
				}
				if cur >= end {
					continue
				}
			}
			starts = append(starts, start)
		}
		if len(starts) == 0 {
			continue
		}
		first := slices.Min(starts)
		when := day.Weekday().String()
		switch d {
		case 0:
			when = "today"
		case 1:
			when = "tomorrow"
		}
		return Availability{Online: false, ExpectedReply: fmt.Sprintf("We'll be back %s at %02d:%02d", when, first/60, first%60)}
	}
	return Availability{Online: false, ExpectedReply: "We'll reply as soon as we can"}
}

func allEmpty(m map[string][]Interval) bool {
	for _, v := range m {
		if len(v) > 0 {
			return false
		}
	}
	return true
}

// MarshalJSON shows every weekday (empty days as []).
func (o OfficeHours) MarshalJSON() ([]byte, error) {
	m := map[string]any{"time_zone": o.TimeZone}
	for _, d := range Weekdays {
		ivs := o.Days[d]
		if ivs == nil {
			ivs = []Interval{}
		}
		m[d] = ivs
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads time_zone and weekday keys; any other key is an
// error.
func (o *OfficeHours) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return bad("office_hours", "office_hours must be an object of weekdays")
	}
	o.Days = map[string][]Interval{}
	for k, v := range raw {
		if k == "time_zone" {
			if err := json.Unmarshal(v, &o.TimeZone); err != nil {
				return bad("office_hours.time_zone", "office_hours.time_zone must be a string")
			}
			continue
		}
		if !slices.Contains(Weekdays, k) {
			return bad("office_hours."+k, "office_hours has no day %q (monday … sunday, time_zone)", k)
		}
		var ivs []Interval
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ivs); err != nil {
			return bad("office_hours."+k, "office_hours.%s must be a list of {\"start\":\"HH:MM\",\"end\":\"HH:MM\"}", k)
		}
		o.Days[k] = ivs
	}
	return nil
}
