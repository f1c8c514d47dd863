package httpapi

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	switchboard "github.com/switchboard-health/switchboard"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// The closed list of error codes in Go is the one openapi.yaml's Problem schema lists and
// the README's table lists, each code with the status the server answers it with.
func TestCodesAreDocumented(t *testing.T) {
	t.Parallel()
	var declared []string
	for code, kind := range errs.Codes {
		declared = append(declared, string(code))
		if _, ok := statusOf[kind]; !ok {
			t.Errorf("code %s has a kind with no HTTP status", code)
		}
	}
	slices.Sort(declared)

	spec, err := openapi3.NewLoader().LoadFromData(switchboard.OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	var inSpec []string
	for _, v := range spec.Components.Schemas["Problem"].Value.Properties["code"].Value.Enum {
		inSpec = append(inSpec, v.(string))
	}
	slices.Sort(inSpec)
	if !slices.Equal(inSpec, declared) {
		t.Errorf("openapi.yaml's Problem.code enum is %v; the Go list is %v", inSpec, declared)
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var inReadme []string
	for _, m := range regexp.MustCompile("(?m)^ *\\| `([a-z_]+)` \\| ([0-9]{3}) \\|").FindAllSubmatch(readme, -1) {
		code, status := errs.Code(m[1]), string(m[2])
		inReadme = append(inReadme, string(code))
		if want := statusOf[code.Kind()]; strconv.Itoa(want) != status {
			t.Errorf("the README gives %s status %s; the server answers %d", code, status, want)
		}
	}
	slices.Sort(inReadme)
	if !slices.Equal(inReadme, declared) {
		t.Errorf("the README's error table lists %v; the Go list is %v", inReadme, declared)
	}
}
