package twilio

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/twilio/twilio-go/client"
	verify "github.com/twilio/twilio-go/rest/verify/v2"
)

// DefaultVerifyURL is Twilio Verify's API.
const DefaultVerifyURL = "https://verify.twilio.com"

// Verifications sends one-time codes to a phone number and checks them, through Twilio
// Verify (twilio-go's verify/v2 client): how a clinic proves that it answers a line.
type Verifications struct {
	api     *verify.ApiService
	service string
}

// VerifyConfig is what Verifications needs.
type VerifyConfig struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN
	ServiceSID string // TWILIO_VERIFY_SERVICE_SID, the Verify service (VA…)
	// BaseURL is Verify's scheme and host (default DefaultVerifyURL); tests point it at a
	// server that speaks Verify's wire format.
	BaseURL string
	Timeout time.Duration // default 10 s
}

// NewVerifications returns a Verify client, or nil when Verify is not configured.
func NewVerifications(c VerifyConfig) *Verifications {
	if c.AccountSID == "" || c.AuthToken == "" || c.ServiceSID == "" {
		return nil
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	httpClient := &http.Client{
		Timeout: c.Timeout,
		// Verify answers without redirects; following one could leak the credentials.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if c.BaseURL != "" && c.BaseURL != DefaultVerifyURL {
		if u, err := url.Parse(c.BaseURL); err == nil {
			httpClient.Transport = rehost{to: u}
		}
	}
	cl := &client.Client{Credentials: client.NewCredentials(c.AccountSID, c.AuthToken), HTTPClient: httpClient}
	cl.SetAccountSid(c.AccountSID)
	return &Verifications{api: verify.NewApiServiceWithClient(cl), service: c.ServiceSID}
}

// rehost sends the client's requests to another scheme and host; twilio-go's Verify client
// has no setting for its base URL.
type rehost struct{ to *url.URL }

func (r rehost) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.to.Scheme, r.to.Host, r.to.Host
	return http.DefaultTransport.RoundTrip(req)
}

// The ways a verification can fail.
var (
	// ErrRefused: Verify will not send a code to this number this way (a landline cannot
	// take an SMS, too many codes were sent lately, the number is not reachable).
	ErrRefused = errors.New("twilio verify refused to send a code")
	// ErrNoPendingCode: no code is waiting for this number (it expired, or was used).
	ErrNoPendingCode = errors.New("twilio verify has no pending code for this number")
)

// Start sends a code to the E.164 number to, by channel ("sms" or "call"). Returns
// ErrRefused when Verify refuses, another error when it cannot be reached.
func (v *Verifications) Start(to, channel string) error {
	_, err := v.api.CreateVerification(v.service, (&verify.CreateVerificationParams{}).SetTo(to).SetChannel(channel))
	if refused(err) {
		return errors.Join(ErrRefused, err)
	}
	return err
}

// Check reports whether code is the one last sent to the number. Returns ErrNoPendingCode
// when none is waiting.
func (v *Verifications) Check(to, code string) (bool, error) {
	res, err := v.api.CreateVerificationCheck(v.service, (&verify.CreateVerificationCheckParams{}).SetTo(to).SetCode(code))
	var rest *client.TwilioRestError
	switch {
	case errors.As(err, &rest) && rest.Status == http.StatusNotFound:
		return false, errors.Join(ErrNoPendingCode, err)
	case refused(err):
		return false, errors.Join(ErrRefused, err)
	case err != nil:
		return false, err
	}
	return res.Status != nil && *res.Status == "approved", nil
}

// refused reports whether Verify declined the request itself (a landline asked for an
// SMS, too many attempts, a number it cannot reach). Credentials it refuses, or that
// twilio-go refuses before sending (it takes only letters and digits), are the operator's
// to fix, not the clinic's, and count as Verify being unavailable.
func refused(err error) bool {
	var rest *client.TwilioRestError
	if !errors.As(err, &rest) || rest.Status < 400 || rest.Status >= 500 {
		return false
	}
	switch {
	case rest.Status == http.StatusUnauthorized, rest.Status == http.StatusForbidden:
		return false
	case rest.Code == 20003, rest.Code == 21222, rest.Code == 21224: // authentication
		return false
	}
	return true
}
