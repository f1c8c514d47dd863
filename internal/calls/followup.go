package calls

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/oapi-codegen/nullable"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// FollowUp is the staff's work on a clinic's calls: a disposition, notes and tags, which
// several people may edit at once. Each change names the version it was made against, so
// that one person's edit never silently overwrites another's.
type FollowUp struct {
	db *tenant.DB
}

// NewFollowUp returns the FollowUp door.
func NewFollowUp(d Deps) *FollowUp { return &FollowUp{db: d.DB} }

// FollowUpOf is a call's follow-up; Version is its ETag.
type FollowUpOf = dbsqlc.GetCallFollowUpRow

// FollowUpChange is what a change sets: a field left unspecified keeps its value, a null
// one is cleared; Tags, when not nil, replaces the call's tags.
type FollowUpChange struct {
	Disposition nullable.Nullable[string]
	Notes       nullable.Nullable[string]
	Tags        *[]string
}

var (
	errNoCall          = errs.New(errs.CodeNotFound, "No call with that id.")
	errVersionRequired = errs.New(errs.CodeVersionRequired, "Send If-Match with the ETag of the follow-up your change was made against.")
	errStaleVersion    = errs.New(errs.CodeStaleVersion, "Someone changed this call's follow-up since you read it; read it again and reapply your change.")
)

// Get returns the tenant's call's follow-up. Returns NotFound for another tenant's call.
func (f *FollowUp) Get(ctx context.Context, t tenant.ID, id uuid.UUID) (FollowUpOf, error) {
	var out FollowUpOf
	err := f.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.GetCallFollowUp(ctx, dbsqlc.GetCallFollowUpParams{UserID: string(t), ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoCall
		}
		return err
	})
	return out, err
}

// Update changes the call's follow-up when ifMatch (an ETag, or "*" for whatever is
// current) names its current version, and audits the change. Returns PreconditionRequired
// without ifMatch, PreconditionFailed (stale_version) when someone changed it since, and
// Invalid for a tag that is not one.
func (f *FollowUp) Update(ctx context.Context, t tenant.ID, id uuid.UUID, ifMatch string, c FollowUpChange) (FollowUpOf, error) {
	p := dbsqlc.UpdateCallFollowUpParams{UserID: string(t), ID: id, FollowUpBy: pgtext.Optional(audit.Actor(ctx))}
	version, err := parseIfMatch(ifMatch)
	if err != nil {
		return FollowUpOf{}, err
	}
	p.ExpectedVersion = version
	var fields []string
	if c.Disposition.IsSpecified() {
		p.SetDisposition, p.Disposition, fields = true, valueOf(c.Disposition), append(fields, "disposition")
	}
	if c.Notes.IsSpecified() {
		p.SetNotes, p.Notes, fields = true, valueOf(c.Notes), append(fields, "notes")
	}
	if c.Tags != nil {
		if p.Tags, err = normalizeTags(*c.Tags); err != nil {
			return FollowUpOf{}, err
		}
		p.SetTags, fields = true, append(fields, "tags")
	}
	var out FollowUpOf
	err = f.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		row, err := q.UpdateCallFollowUp(ctx, p)
		if errors.Is(err, pgx.ErrNoRows) {
			// Either no such call, or a stale version: tell which.
			if _, err := q.GetCallFollowUp(ctx, dbsqlc.GetCallFollowUpParams{UserID: string(t), ID: id}); errors.Is(err, pgx.ErrNoRows) {
				return errNoCall
			}
			return errStaleVersion
		}
		if err != nil {
			return err
		}
		out = FollowUpOf(row)
		// The entry names the fields changed, never what they say.
		return audit.Record(ctx, q, t, "call.follow_up", "call", id.String(), map[string]any{"fields": fields, "version": row.FollowUpVersion})
	})
	return out, err
}

// ETag is the follow-up's version as an entity tag.
func ETag(version int32) string { return `"` + strconv.Itoa(int(version)) + `"` }

// anyVersion is the expected version of If-Match: *, whatever is current.
const anyVersion = -1

// parseIfMatch reads If-Match: "*" (anyVersion) or one strong entity tag of ours.
func parseIfMatch(h string) (int32, error) {
	h = strings.TrimSpace(h)
	switch {
	case h == "":
		return 0, errVersionRequired
	case h == "*":
		return anyVersion, nil
	}
	unquoted, ok := strings.CutPrefix(h, `"`)
	unquoted, ok2 := strings.CutSuffix(unquoted, `"`)
	n, err := strconv.ParseInt(unquoted, 10, 32)
	if !ok || !ok2 || err != nil || n < 0 {
		// Not a tag this API issued (a weak one never matches): not the current version.
		return 0, errStaleVersion
	}
	return int32(n), nil
}

var tagPattern = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

// normalizeTags folds tags to lower case, trims them and drops repeats, keeping their
// order. Returns Invalid for a tag that is not one.
func normalizeTags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, tag := range in {
		tag = strings.ToLower(strings.TrimSpace(tag))
		if !tagPattern.MatchString(tag) {
			return nil, errs.New(errs.CodeValidationFailed, "tags: "+strconv.Quote(tag)+" is not a tag (1–40 of a–z, 0–9, - and _).")
		}
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out, nil
}

func valueOf(n nullable.Nullable[string]) *string {
	if n.IsNull() {
		return nil
	}
	v := n.MustGet()
	return &v
}
