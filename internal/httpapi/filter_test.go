package httpapi

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/calls"
)

// Every parameter of the list and the export reaches calls.Filter: a filter added to the
// contract but not to the Filter fails here instead of being dropped.
func TestEveryCallsFilterIsRead(t *testing.T) {
	t.Parallel()
	filterNames := map[string]bool{}
	ft := reflect.TypeFor[calls.Filter]()
	for i := range ft.NumField() {
		filterNames[ft.Field(i).Tag.Get("json")] = true
	}
	for _, pt := range []reflect.Type{reflect.TypeFor[api.ListCallsParams](), reflect.TypeFor[api.ExportCallsParams]()} {
		for i := range pt.NumField() {
			name, _, _ := strings.Cut(pt.Field(i).Tag.Get("json"), ",")
			if !filterNames[name] {
				t.Errorf("%s.%s (%q) has no field in calls.Filter", pt.Name(), pt.Field(i).Name, name)
			}
		}
	}

	// And the values arrive as they were sent.
	q, status, id, since := "cleaning", api.Status("ended"), uuid.New(), time.Date(2026, 11, 1, 8, 30, 0, 123000, time.UTC)
	minDuration, limit := 30, 20
	f, err := filterOf(api.ListCallsParams{Q: &q, Status: &status, PhoneNumberId: &id, Since: &since, MinDuration: &minDuration, Limit: &limit})
	if err != nil {
		t.Fatal(err)
	}
	if *f.Query != q || *f.Status != "ended" || *f.PhoneNumberID != id || !f.Since.Equal(since) || *f.MinDuration != 30 || f.Limit != 20 || f.Until != nil {
		t.Fatalf("read %+v", f)
	}
}
