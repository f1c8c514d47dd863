// Package switchboard holds the service's contract. The code lives under internal/, the
// generated server under api/, and the binary under cmd/switchboard.
package switchboard

import _ "embed"

// OpenAPIYAML is openapi.yaml as written, served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
