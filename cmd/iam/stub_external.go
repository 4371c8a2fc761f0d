//go:build !iamexternal

// This file stands in for the schema package and the Scaleway-format
// converter until they are part of the module; external.go calls the real
// ones. Remove this file and the build constraint of external.go once they
// are.

package main

import (
	"errors"

	"github.com/iamkit/iam/internal/wire"
)

var errNoScaleway = errors.New("iam: Scaleway's format is not supported by this build")

func schemaWorld() []byte  { return stubSchema("world") }
func schemaPolicy() []byte { return stubSchema("policy") }
func schemaTest() []byte   { return stubSchema("test") }

func stubSchema(kind string) []byte {
	return []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "iamkit ` + kind + ` file"}` + "\n")
}

func isScaleway([]byte) bool                      { return false }
func scalewayToWorld([]byte) (wire.File, error)   { return wire.File{}, errNoScaleway }
func scalewayFromWorld(wire.File) ([]byte, error) { return nil, errNoScaleway }
