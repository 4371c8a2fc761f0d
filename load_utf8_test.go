package iam

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file's text reaches the store as written or not at all: invalid UTF-8,
// and escapes that encode no character (a lone or reversed UTF-16
// surrogate), are errors located in the file, never turned into U+FFFD.
func TestLoadNeverReplacesInvalidText(t *testing.T) {
	t.Parallel()
	const world = `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"email": "owner@acme.test", "type": "owner"}],
  "applications": [{"name": "ci", %s}]}`
	tests := []struct {
		name  string
		field string // the application's field, as written in the file
		at    string // where line:column must point
		path  string
		msg   string
	}{
		{"invalid byte", `"description": "build` + "\xff" + `er"`, "\xff", "applications[0].description", "invalid UTF-8"},
		{"truncated sequence", `"description": "caf` + "\xc3" + `"`, "\xc3", "applications[0].description", "invalid UTF-8"},
		{"overlong encoding", `"description": "` + "\xc0\xaf" + `"`, "\xc0\xaf", "applications[0].description", "invalid UTF-8"},
		{"encoded surrogate", `"description": "` + "\xed\xa0\x80" + `"`, "\xed\xa0\x80", "applications[0].description", "invalid UTF-8"},
		{"invalid byte in a tag", `"tags": ["ok", "t` + "\xfe" + `"]`, "\xfe", "applications[0].tags[1]", "invalid UTF-8"},
		{"invalid byte in a key", `"descr` + "\xff" + `iption": "x"`, "\xff", "applications[0]", "invalid UTF-8"},
		{"lone high surrogate", `"description": "a\ud83d b"`, `\ud83d b`, "applications[0].description", "surrogate"},
		{"lone low surrogate", `"description": "a\ude80"`, `\ude80`, "applications[0].description", "surrogate"},
		{"reversed pair", `"description": "\ude80\ud83d"`, `\ude80\ud83d`, "applications[0].description", "surrogate"},
		{"high surrogate at the end", `"description": "x\ud83d"`, `\ud83d"`, "applications[0].description", "surrogate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := fmt.Sprintf(world, tt.field)
			store := newLoadStore()
			before := loadContents(t, store)
			err := Load(context.Background(), store, "case.json", []byte(file))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "%T %v", err, err)
			wl, wc := loadPos(t, file, tt.at)
			assert.Equal(t, [2]int{wl, wc}, [2]int{ve.Line, ve.Column}, "position of %v", err)
			assert.Equal(t, "case.json", ve.File)
			assert.Equal(t, tt.path, ve.Path)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), fmt.Sprintf("case.json:%d:%d: ", wl, wc))
			requireContents(t, before, loadContents(t, store))
		})
	}
}

// Valid text in any form loads as written: raw UTF-8, escapes, surrogate
// pairs and a real U+FFFD.
func TestLoadKeepsValidText(t *testing.T) {
	t.Parallel()
	file := `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"email": "owner@acme.test", "type": "owner"}],
  "applications": [{"name": "ci", "description": "Zoë \u00e9 \ud83d\ude80 🚀 ` + "\uFFFD" + ` \ufffd"}]}`
	store := newLoadStore()
	require.NoError(t, Load(context.Background(), store, "ok.json", []byte(file)))
	app, err := store.GetApplication(context.Background(), "ci")
	require.NoError(t, err)
	assert.Equal(t, "Zoë é 🚀 🚀 \uFFFD \uFFFD", app.Description)
}
