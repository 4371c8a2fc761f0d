package main

import (
	"github.com/iamkit/iam/internal/scaleway"
	"github.com/iamkit/iam/internal/wire"
	"github.com/iamkit/iam/schema"
)

// The JSON Schemas of the file formats, embedded in the schema package.
func schemaWorld() []byte  { return schema.World() }
func schemaPolicy() []byte { return schema.Policy() }
func schemaTest() []byte   { return schema.Test() }

// Scaleway's own format: told from the file's fields, converted to and
// from the shape of a world file.
func isScaleway(data []byte) bool                    { return scaleway.IsScaleway(data) }
func scalewayToWorld(data []byte) (wire.File, error) { return scaleway.ToWorld(data) }
func scalewayFromWorld(f wire.File) ([]byte, error)  { return scaleway.FromWorld(f) }
