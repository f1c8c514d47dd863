package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/internal/devenv"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

// simulateCall plays a whole inbound call against a running development instance: the
// patient calls a demo clinic's line, which forwards to the assistant line; Twilio's voice
// webhook (signed with the instance's token) hands the call to the VAPI simulator, which
// posts the call's progress and its end-of-call report; Twilio's status callbacks follow.
func simulateCall(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("simulate-call", flag.ContinueOnError)
	fs.SetOutput(stdout)
	tenantID := fs.String("tenant", devenv.DemoTenants[0], "the demo clinic called: "+strings.Join(devenv.DemoTenants, " or "))
	base := fs.String("url", "http://localhost:8080", "the development instance")
	if err := fs.Parse(args); err != nil {
		return err
	}
	i := slices.Index(devenv.DemoTenants, *tenantID)
	if i < 0 {
		return fmt.Errorf("-tenant must be one of %s", strings.Join(devenv.DemoTenants, ", "))
	}
	sid := "CAsim" + strings.ReplaceAll(uuid.NewString(), "-", "")
	caller := fmt.Sprintf("+1312744%04d", time.Now().UnixNano()%10000)
	post := func(path string, form url.Values) error { return postTwilio(ctx, *base, path, form) }

	fmt.Fprintf(stdout, "%s calls %s, which forwards to the assistant line %s (CallSid %s)\n", caller, devenv.DemoLines[i], devenv.AssistantLine, sid)
	if err := post("/api/webhooks/twilio", providertest.InboundForm(sid, caller, devenv.AssistantLine, devenv.DemoLines[i])); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Twilio's voice webhook: answered; the VAPI simulator has the call and reports on it in a few seconds")
	steps := []struct {
		after  time.Duration
		status string
	}{{0, "ringing"}, {time.Second, "in-progress"}, {5 * time.Second, "completed"}}
	for _, step := range steps {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(step.after): // the call's own pace
		}
		form := providertest.StatusForm(sid, step.status)
		if step.status == "completed" {
			form.Set("CallDuration", "5")
		}
		if err := post("/api/webhooks/twilio/status", form); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Twilio's status callback: %s\n", step.status)
	}
	fmt.Fprintln(stdout, "Done: the call is in the clinic's list, its live stream, statistics and search.")
	return nil
}

// postTwilio posts a form to the instance as Twilio would, signed for the URL it is posted to.
func postTwilio(ctx context.Context, base, path string, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", providertest.SignTwilio(devenv.TwilioToken, base+path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("is the development instance running (make run)? %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		return errors.New(path + ": " + resp.Status + ": " + string(body))
	}
	return nil
}
