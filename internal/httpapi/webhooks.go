package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// Body limits of the webhooks. VAPI's end-of-call reports carry whole transcripts.
const (
	maxTwilioBody = 1 << 20
	maxVapiBody   = 10 << 20
	maxClerkBody  = 1 << 20
)

// The webhooks are plain Echo handlers rather than generated ones: authenticity is checked
// over the raw body before anything else reads it. openapi.yaml documents them.
func (s *Server) registerWebhooks(e *echo.Echo) {
	e.POST("/api/webhooks/twilio", s.twilioVoice)
	e.POST("/api/webhooks/twilio/status", s.twilioStatus)
	e.POST("/api/webhooks/twilio/dial", s.twilioFollowUp("dial", s.intake.TwilioDial))
	e.POST("/api/webhooks/twilio/voicemail", s.twilioFollowUp("voicemail", s.intake.TwilioVoicemail))
	e.POST("/api/webhooks/twilio/recording", s.twilioRecording)
	e.POST("/api/webhooks/vapi", s.vapiMessage)
	e.POST("/api/webhooks/clerk", s.clerkEvent)
}

func (s *Server) twilioVoice(c echo.Context) error {
	body, err := s.twilioBody(c)
	if err != nil {
		return err
	}
	answer, err := s.intake.TwilioVoice(c.Request().Context(), body, keptHeaders(c.Request().Header))
	if err != nil {
		s.logWebhook(c, "twilio", "voice", answer.Record(c.Request().Context()))
		return err
	}
	// The answer is sent whole (its length declared) and flushed at once: Twilio can
	// connect the caller while the hand-off is still being recorded. Server-Timing says
	// how much of the answer's time was VAPI's.
	h := c.Response().Header()
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(answer.TwiML)))
	if answer.VAPITime > 0 {
		h.Set("Server-Timing", "vapi;dur="+strconv.FormatFloat(float64(answer.VAPITime.Microseconds())/1000, 'f', 1, 64))
	}
	if c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(answer.TwiML)) == nil {
		c.Response().Flush()
	}
	s.logWebhook(c, "twilio", "voice", answer.Record(c.Request().Context()))
	return nil
}

// twilioFollowUp serves the TwiML Twilio asks for during a call it was answered with a
// forward or a voicemail. The caller is on the line: a failure to store or apply the
// request is logged (it is reprocessed when it was stored) and the TwiML still sent; only
// a request that is not Twilio's or not a call's is refused.
func (s *Server) twilioFollowUp(kind string, receive func(context.Context, []byte, map[string]string) (string, calls.Outcome, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := s.twilioBody(c)
		if err != nil {
			return err
		}
		twiml, outcome, err := receive(c.Request().Context(), body, keptHeaders(c.Request().Header))
		s.logWebhook(c, "twilio", kind, outcome)
		if errs.Is(err, errs.Invalid) {
			return err
		}
		if err != nil {
			s.log.ErrorContext(c.Request().Context(), "twilio "+kind+" not applied; answering anyway", slog.String("error", err.Error()))
		}
		return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(twiml))
	}
}

func (s *Server) twilioRecording(c echo.Context) error {
	body, err := s.twilioBody(c)
	if err != nil {
		return err
	}
	outcome, err := s.intake.TwilioRecording(c.Request().Context(), body, keptHeaders(c.Request().Header))
	s.logWebhook(c, "twilio", "recording", outcome)
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) twilioStatus(c echo.Context) error {
	body, err := s.twilioBody(c)
	if err != nil {
		return err
	}
	outcome, err := s.intake.TwilioStatus(c.Request().Context(), body, keptHeaders(c.Request().Header))
	s.logWebhook(c, "twilio", "status", outcome)
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// twilioBody reads a Twilio request and checks its signature. Without a valid one the
// request is refused before anything is stored or called.
func (s *Server) twilioBody(c echo.Context) ([]byte, error) {
	body, err := readBody(c, maxTwilioBody)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !s.twilio.Verify(c.Request(), form) {
		s.logRejected(c, "twilio")
		return nil, errs.New(errs.CodeInvalidSignature, "The request's X-Twilio-Signature does not match.")
	}
	return body, nil
}

func (s *Server) vapiMessage(c echo.Context) error {
	if !s.vapiAuthentic(c.Request().Header) {
		s.logRejected(c, "vapi")
		return errs.New(errs.CodeUnauthorized, "Send the VAPI webhook secret as X-Vapi-Secret or as a bearer token.")
	}
	body, err := readBody(c, maxVapiBody)
	if err != nil {
		return err
	}
	reply, err := s.intake.VapiMessage(c.Request().Context(), body, keptHeaders(c.Request().Header))
	s.logWebhook(c, "vapi", "message", reply.Outcome)
	if reply.Body != nil {
		// An assistant-request: VAPI needs the answer even when keeping the request failed
		// (the answer then says so to the caller).
		if err != nil {
			s.log.ErrorContext(c.Request().Context(), "assistant-request not applied; answering anyway", slog.String("error", err.Error()))
		}
		return c.JSONBlob(http.StatusOK, reply.Body)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"received": true})
}

// clerkEvent receives Clerk's webhooks: Svix verifies them over the raw body first.
func (s *Server) clerkEvent(c echo.Context) error {
	body, err := readBody(c, maxClerkBody)
	if err != nil {
		return err
	}
	outcome, err := s.accounts.Receive(c.Request().Context(), body, c.Request().Header)
	if errs.Is(err, errs.Forbidden) {
		s.logRejected(c, "clerk")
		return err
	}
	if err != nil {
		s.logWebhook(c, "clerk", "event", "failed")
		return err
	}
	s.logWebhook(c, "clerk", "event", calls.Outcome(outcome))
	return c.JSON(http.StatusOK, map[string]bool{"received": true})
}

// vapiAuthentic checks the shared secret, sent as X-Vapi-Secret or as a bearer token. No
// configured secret authenticates nothing.
func (s *Server) vapiAuthentic(h http.Header) bool {
	token, _ := bearerToken(h.Get(echo.HeaderAuthorization))
	return sameSecret(h.Get("X-Vapi-Secret"), s.vapiSecret) || sameSecret(token, s.vapiSecret)
}

// sameSecret compares a presented secret with the configured one in constant time (over
// digests, so the comparison does not depend on the secret's length either). An empty
// secret on either side matches nothing.
func sameSecret(presented, configured string) bool {
	if presented == "" || configured == "" {
		return false
	}
	got, want := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(configured))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// readBody reads at most max bytes of the body; a larger body is a 413.
func readBody(c echo.Context, max int64) ([]byte, error) {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, max)
	body, err := io.ReadAll(r)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errs.New(errs.CodePayloadTooLarge, "The request body is larger than this endpoint accepts.")
	}
	if err != nil {
		return nil, errs.New(errs.CodeValidationFailed, "The request body could not be read.")
	}
	return body, nil
}

// keptHeaders are the request headers stored with an event: what helps an operator
// understand a delivery later. Credentials are never among them.
func keptHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"Content-Type", "User-Agent", "X-Request-Id", "I-Twilio-Idempotency-Token", "X-Twilio-Signature", "X-Forwarded-For"} {
		if v := h.Get(k); v != "" {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

func (s *Server) logWebhook(c echo.Context, provider, kind string, outcome calls.Outcome) {
	if s.metrics != nil {
		s.metrics.Webhook(provider, string(outcome))
	}
	s.log.InfoContext(c.Request().Context(), "webhook",
		slog.String("provider", provider),
		slog.String("kind", kind),
		slog.String("outcome", string(outcome)))
}

// logRejected counts a request that failed authentication; it is not stored.
func (s *Server) logRejected(c echo.Context, provider string) {
	if s.metrics != nil {
		s.metrics.Webhook(provider, "rejected_signature")
	}
	s.log.WarnContext(c.Request().Context(), "webhook rejected: not authentic",
		slog.String("provider", provider),
		slog.String("outcome", "rejected_signature"),
		slog.String("remote", c.RealIP()))
}
