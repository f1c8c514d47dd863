package calls_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// Money is summed exactly, and a cost no call can have (1e308, negative) never reaches the
// statistics.
func TestStatsSumCostsExactly(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.registerLine()
	for i, cost := range []any{0.1, 0.1, 0.1, 1e308, -2} {
		b.inboundCall(fmt.Sprintf("CA_COST_%d", i))
		report := providertest.EndOfCallReport(fmt.Sprintf("vapi-call-%d", i+1), b.metadata(i))
		report["cost"] = cost
		if _, err := b.vapiMessage(report); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now().Add(-time.Hour)
	st, err := b.reader.Stats(context.Background(), clinic, &since, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Totals.Calls != 5 || st.Totals.TotalCost != 0.3 {
		t.Fatalf("%d calls costing %v in all, want 5 costing exactly 0.3", st.Totals.Calls, st.Totals.TotalCost)
	}
}
