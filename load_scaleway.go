package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/iamkit/iam/internal/scaleway"
)

// loadScaleway loads l.data, an export in Scaleway's format, as the world
// it converts to. The conversion keeps every entity at its index, so an
// error about the world names the same entity in the export: its path is
// renamed into the export's keys and located there again.
func (l *loader) loadScaleway(ctx context.Context, store Store) error {
	f, err := scaleway.ToWorld(l.data)
	if err != nil {
		return l.decodeError(err)
	}
	err = l.loadWorld(ctx, store, &f)
	var ve *ValidationError
	var fe *FileError
	switch {
	case errors.As(err, &ve) && ve.File == l.name && ve.Path != "":
		path := scaleway.Path(l.data, ve.Path)
		if ve.Field != "" && strings.HasSuffix(ve.Path, ve.Field) {
			entity := scaleway.Path(l.data, strings.TrimSuffix(strings.TrimSuffix(ve.Path, ve.Field), "."))
			ve.Field = strings.TrimPrefix(strings.TrimPrefix(path, entity), ".")
		}
		ve.Path = path
		ve.Line, ve.Column = l.at(path)
	case errors.As(err, &fe) && fe.File == l.name && fe.Path != "":
		fe.Path = scaleway.Path(l.data, fe.Path)
		fe.Line, fe.Column = l.at(fe.Path)
	}
	return err
}
