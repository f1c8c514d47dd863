package httpapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/outbound"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// The closed lists written in three places (the Go constants, openapi.yaml's enums, the
// database's CHECKs) say the same: a value one of them gains is a failing test, not a
// 500 or a silently dropped count.
func TestVocabulariesMatchTheContractAndTheDatabase(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	enum := func(schema string) []string {
		var out []string
		for _, v := range spec.Components.Schemas[schema].Value.Enum {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	var handlings []string
	for _, h := range routing.Handlings {
		handlings = append(handlings, string(h))
	}
	for schema, ours := range map[string][]string{"Handling": handlings, "Disposition": calls.Dispositions, "EventType": outbound.EventTypes} {
		sorted := slices.Sorted(slices.Values(ours))
		if got := enum(schema); !slices.Equal(got, sorted) {
			t.Errorf("openapi.yaml's %s is %v, the code's %v", schema, got, sorted)
		}
	}

	pool := testpg.New(t)
	ctx := context.Background()
	for _, c := range []struct {
		column string
		values []string
	}{{"handling", handlings}, {"disposition", calls.Dispositions}} {
		for _, v := range append(slices.Clone(c.values), "teleported") {
			_, err := pool.Exec(ctx, "INSERT INTO calls (user_id, "+c.column+") VALUES ('user_a', $1)", v)
			if want := v != "teleported"; (err == nil) != want {
				t.Errorf("a call with %s %q: %v", c.column, v, err)
			}
		}
	}
}
