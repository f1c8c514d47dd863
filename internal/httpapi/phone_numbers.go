package httpapi

import (
	"context"

	"github.com/oapi-codegen/nullable"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
)

// ListPhoneNumbers lists the tenant's numbers.
func (s *Server) ListPhoneNumbers(ctx context.Context, _ api.ListPhoneNumbersRequestObject) (api.ListPhoneNumbersResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.phoneNumbers.List(ctx, t)
	if err != nil {
		return nil, err
	}
	items := make([]api.PhoneNumber, len(rows))
	for i, r := range rows {
		items[i] = phoneNumberOf(r)
	}
	return api.ListPhoneNumbers200JSONResponse{Items: items}, nil
}

// CreatePhoneNumber registers a number.
func (s *Server) CreatePhoneNumber(ctx context.Context, req api.CreatePhoneNumberRequestObject) (api.CreatePhoneNumberResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.phoneNumbers.Create(ctx, t, phonenumbers.New{
		PhoneNumber:       req.Body.PhoneNumber,
		Label:             req.Body.Label,
		VapiAssistantID:   req.Body.VapiAssistantId,
		VapiPhoneNumberID: req.Body.VapiPhoneNumberId,
	})
	if err != nil {
		return nil, err
	}
	return api.CreatePhoneNumber201JSONResponse(phoneNumberOf(row)), nil
}

// GetPhoneNumber returns one number.
func (s *Server) GetPhoneNumber(ctx context.Context, req api.GetPhoneNumberRequestObject) (api.GetPhoneNumberResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.phoneNumbers.Get(ctx, t, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetPhoneNumber200JSONResponse(phoneNumberOf(row)), nil
}

// UpdatePhoneNumber changes a number's label, VAPI ids or active flag.
func (s *Server) UpdatePhoneNumber(ctx context.Context, req api.UpdatePhoneNumberRequestObject) (api.UpdatePhoneNumberResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.phoneNumbers.Update(ctx, t, req.Id, phonenumbers.Change{
		Label:             optional(req.Body.Label),
		VapiAssistantID:   optional(req.Body.VapiAssistantId),
		VapiPhoneNumberID: optional(req.Body.VapiPhoneNumberId),
		IsActive:          req.Body.IsActive,
	})
	if err != nil {
		return nil, err
	}
	return api.UpdatePhoneNumber200JSONResponse(phoneNumberOf(row)), nil
}

// DeletePhoneNumber removes a number; its calls stay.
func (s *Server) DeletePhoneNumber(ctx context.Context, req api.DeletePhoneNumberRequestObject) (api.DeletePhoneNumberResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.phoneNumbers.Delete(ctx, t, req.Id); err != nil {
		return nil, err
	}
	return api.DeletePhoneNumber204Response{}, nil
}

// StartPhoneNumberVerification sends a one-time code to a pending number.
func (s *Server) StartPhoneNumberVerification(ctx context.Context, req api.StartPhoneNumberVerificationRequestObject) (api.StartPhoneNumberVerificationResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.phoneNumbers.StartVerification(ctx, t, req.Id, string(req.Body.Channel))
	if err != nil {
		return nil, err
	}
	return api.StartPhoneNumberVerification202JSONResponse(phoneNumberOf(row)), nil
}

// CheckPhoneNumberVerification proves a number with the code it received.
func (s *Server) CheckPhoneNumberVerification(ctx context.Context, req api.CheckPhoneNumberVerificationRequestObject) (api.CheckPhoneNumberVerificationResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.phoneNumbers.CheckVerification(ctx, t, req.Id, req.Body.Code)
	if err != nil {
		return nil, err
	}
	return api.CheckPhoneNumberVerification200JSONResponse(phoneNumberOf(row)), nil
}

func phoneNumberOf(r dbsqlc.PhoneNumber) api.PhoneNumber {
	return api.PhoneNumber{
		Id:                 r.ID,
		PhoneNumber:        r.PhoneNumber,
		Label:              r.Label,
		VapiAssistantId:    r.VapiAssistantID,
		VapiPhoneNumberId:  r.VapiPhoneNumberID,
		IsActive:           r.IsActive,
		VerificationStatus: api.PhoneNumberVerificationStatus(r.VerificationStatus),
		VerifiedAt:         utc(r.VerifiedAt),
		CreatedAt:          r.CreatedAt.UTC(),
		UpdatedAt:          r.UpdatedAt.UTC(),
	}
}

// optional tells a field left out of a PATCH body from one set to null.
func optional(n nullable.Nullable[string]) phonenumbers.Optional {
	if !n.IsSpecified() {
		return phonenumbers.Optional{}
	}
	if n.IsNull() {
		return phonenumbers.Optional{Set: true}
	}
	v := n.MustGet()
	return phonenumbers.Optional{Set: true, Value: &v}
}
