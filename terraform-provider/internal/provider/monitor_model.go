package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// monitorModel is the Terraform shape of a monitor, shared by the resource and the
// `vedette_monitor` data source.
type monitorModel struct {
	ID               types.String    `tfsdk:"id"`
	Name             types.String    `tfsdk:"name"`
	Description      types.String    `tfsdk:"description"`
	Labels           types.Map       `tfsdk:"labels"`
	HTTP             *httpModel      `tfsdk:"http"`
	TCP              *tcpModel       `tfsdk:"tcp"`
	DNS              *dnsModel       `tfsdk:"dns"`
	TLS              *tlsModel       `tfsdk:"tls"`
	Heartbeat        *heartbeatModel `tfsdk:"heartbeat"`
	Interval         DurationValue   `tfsdk:"interval"`
	Timeout          DurationValue   `tfsdk:"timeout"`
	Retries          types.Int64     `tfsdk:"retries"`
	Assertions       types.List      `tfsdk:"assertions"`
	DegradedAfter    DurationValue   `tfsdk:"degraded_after"`
	FailureThreshold types.Int64     `tfsdk:"failure_threshold"`
	SuccessThreshold types.Int64     `tfsdk:"success_threshold"`
	Paused           types.Bool      `tfsdk:"paused"`
	PushURL          types.String    `tfsdk:"push_url"`
	Version          types.Int64     `tfsdk:"version"`
}

type httpModel struct {
	URL             types.String    `tfsdk:"url"`
	Method          types.String    `tfsdk:"method"`
	Headers         types.Map       `tfsdk:"headers"`
	Body            types.String    `tfsdk:"body"`
	FollowRedirects types.Bool      `tfsdk:"follow_redirects"`
	MaxRedirects    types.Int64     `tfsdk:"max_redirects"`
	TLSVerify       types.Bool      `tfsdk:"tls_verify"`
	CACert          types.String    `tfsdk:"ca_cert"`
	BasicAuth       *basicAuthModel `tfsdk:"basic_auth"`
	BearerToken     types.String    `tfsdk:"bearer_token"`
	Version         types.String    `tfsdk:"version"`
	MaxBodyBytes    types.Int64     `tfsdk:"max_body_bytes"`
}

type basicAuthModel struct {
	Username types.String `tfsdk:"username"`
	Password types.String `tfsdk:"password"`
}

type tcpModel struct {
	Host   types.String `tfsdk:"host"`
	Port   types.Int64  `tfsdk:"port"`
	Send   types.String `tfsdk:"send"`
	Expect types.String `tfsdk:"expect"`
}

type dnsModel struct {
	Name       types.String `tfsdk:"name"`
	RecordType types.String `tfsdk:"record_type"`
	Resolver   types.String `tfsdk:"resolver"`
	Transport  types.String `tfsdk:"transport"`
	Expect     types.List   `tfsdk:"expect"`
	Rcode      types.String `tfsdk:"rcode"`
}

type tlsModel struct {
	Host          types.String  `tfsdk:"host"`
	Port          types.Int64   `tfsdk:"port"`
	ServerName    types.String  `tfsdk:"server_name"`
	CACert        types.String  `tfsdk:"ca_cert"`
	Verify        types.Bool    `tfsdk:"verify"`
	ExpiryWarning DurationValue `tfsdk:"expiry_warning"`
}

type heartbeatModel struct {
	Schedule types.String  `tfsdk:"schedule"`
	Grace    DurationValue `tfsdk:"grace"`
	Token    types.String  `tfsdk:"token"`
}

// toAPI builds the write body of the monitor.
func (m *monitorModel) toAPI(ctx context.Context) (client.MonitorWrite, diag.Diagnostics) {
	var diags diag.Diagnostics
	spec := client.MonitorSpec{
		Name:             optional(m.Name),
		Description:      optional(m.Description),
		Interval:         CanonicalDuration(known(m.Interval)),
		Timeout:          CanonicalDuration(known(m.Timeout)),
		Retries:          intOr(m.Retries, 0),
		Assertions:       stringList(ctx, m.Assertions, &diags),
		DegradedAfter:    optional(m.DegradedAfter),
		FailureThreshold: intOr(m.FailureThreshold, 0),
		SuccessThreshold: intOr(m.SuccessThreshold, 0),
		Paused:           !m.Paused.IsNull() && !m.Paused.IsUnknown() && m.Paused.ValueBool(),
	}
	if h := m.HTTP; h != nil {
		check := &client.HTTPCheck{
			URL:             known(h.URL),
			Method:          known(h.Method),
			Headers:         stringMap(ctx, h.Headers, &diags),
			Body:            optional(h.Body),
			FollowRedirects: optionalBool(h.FollowRedirects),
			MaxRedirects:    optionalInt(h.MaxRedirects),
			TLSVerify:       optionalBool(h.TLSVerify),
			CACert:          optional(h.CACert),
			Version:         known(h.Version),
			MaxBodyBytes:    intOr(h.MaxBodyBytes, 0),
		}
		switch {
		case h.BasicAuth != nil:
			check.Auth = &client.HTTPAuth{Basic: &client.BasicAuth{
				Username: known(h.BasicAuth.Username),
				Password: known(h.BasicAuth.Password),
			}}
		case optional(h.BearerToken) != nil:
			check.Auth = &client.HTTPAuth{Bearer: &client.BearerAuth{Token: known(h.BearerToken)}}
		}
		spec.HTTP = check
	}
	if t := m.TCP; t != nil {
		spec.TCP = &client.TCPCheck{
			Host:   known(t.Host),
			Port:   intOr(t.Port, 0),
			Send:   optional(t.Send),
			Expect: optional(t.Expect),
		}
	}
	if d := m.DNS; d != nil {
		spec.DNS = &client.DNSCheck{
			Name:       known(d.Name),
			RecordType: known(d.RecordType),
			Resolver:   optional(d.Resolver),
			Transport:  known(d.Transport),
			Expect:     stringList(ctx, d.Expect, &diags),
			Rcode:      known(d.Rcode),
		}
	}
	if t := m.TLS; t != nil {
		spec.TLS = &client.TLSCheck{
			Host:          known(t.Host),
			Port:          intOr(t.Port, 0),
			ServerName:    optional(t.ServerName),
			CACert:        optional(t.CACert),
			Verify:        optionalBool(t.Verify),
			ExpiryWarning: CanonicalDuration(known(t.ExpiryWarning)),
		}
	}
	if h := m.Heartbeat; h != nil {
		spec.Heartbeat = &client.HeartbeatCheck{
			Schedule: optional(h.Schedule),
			Grace:    CanonicalDuration(known(h.Grace)),
			Token:    optional(h.Token),
		}
	}
	if spec.DegradedAfter != nil {
		canon := CanonicalDuration(*spec.DegradedAfter)
		spec.DegradedAfter = &canon
	}
	return client.MonitorWrite{Labels: stringMap(ctx, m.Labels, &diags), Spec: spec}, diags
}

// monitorFromAPI is the Terraform state of an API monitor. prior (may be nil) supplies secrets
// the API does not return. resolve turns the server-relative push URL into an absolute one.
func monitorFromAPI(api *client.Monitor, prior *monitorModel, resolve func(string) string) monitorModel {
	s := api.Spec
	m := monitorModel{
		ID:               types.StringValue(api.ID),
		Name:             types.StringPointerValue(s.Name),
		Description:      types.StringPointerValue(s.Description),
		Labels:           mapValue(api.Labels),
		Interval:         NewDurationValue(s.Interval),
		Timeout:          NewDurationValue(s.Timeout),
		Retries:          types.Int64Value(s.Retries),
		Assertions:       listValue(s.Assertions),
		DegradedAfter:    NewDurationPointerValue(s.DegradedAfter),
		FailureThreshold: types.Int64Value(s.FailureThreshold),
		SuccessThreshold: types.Int64Value(s.SuccessThreshold),
		Paused:           types.BoolValue(s.Paused),
		PushURL:          types.StringNull(),
		Version:          types.Int64Value(api.Version),
	}
	if h := s.HTTP; h != nil {
		hm := &httpModel{
			URL:             types.StringValue(h.URL),
			Method:          types.StringValue(h.Method),
			Headers:         mapValue(h.Headers),
			Body:            types.StringPointerValue(h.Body),
			FollowRedirects: types.BoolPointerValue(h.FollowRedirects),
			MaxRedirects:    types.Int64PointerValue(h.MaxRedirects),
			TLSVerify:       types.BoolPointerValue(h.TLSVerify),
			CACert:          types.StringPointerValue(h.CACert),
			BearerToken:     types.StringNull(),
			Version:         types.StringValue(h.Version),
			MaxBodyBytes:    types.Int64Value(h.MaxBodyBytes),
		}
		var priorHTTP *httpModel
		if prior != nil {
			priorHTTP = prior.HTTP
		}
		if h.Auth != nil && h.Auth.Basic != nil {
			priorPassword := types.StringNull()
			if priorHTTP != nil && priorHTTP.BasicAuth != nil {
				priorPassword = priorHTTP.BasicAuth.Password
			}
			hm.BasicAuth = &basicAuthModel{
				Username: types.StringValue(h.Auth.Basic.Username),
				Password: secret(h.Auth.Basic.Password, priorPassword),
			}
		}
		if h.Auth != nil && h.Auth.Bearer != nil {
			priorToken := types.StringNull()
			if priorHTTP != nil {
				priorToken = priorHTTP.BearerToken
			}
			hm.BearerToken = secret(h.Auth.Bearer.Token, priorToken)
		}
		m.HTTP = hm
	}
	if t := s.TCP; t != nil {
		m.TCP = &tcpModel{
			Host:   types.StringValue(t.Host),
			Port:   types.Int64Value(t.Port),
			Send:   types.StringPointerValue(t.Send),
			Expect: types.StringPointerValue(t.Expect),
		}
	}
	if d := s.DNS; d != nil {
		m.DNS = &dnsModel{
			Name:       types.StringValue(d.Name),
			RecordType: types.StringValue(d.RecordType),
			Resolver:   types.StringPointerValue(d.Resolver),
			Transport:  types.StringValue(d.Transport),
			Expect:     listValue(d.Expect),
			Rcode:      types.StringValue(d.Rcode),
		}
	}
	if t := s.TLS; t != nil {
		m.TLS = &tlsModel{
			Host:          types.StringValue(t.Host),
			Port:          types.Int64Value(t.Port),
			ServerName:    types.StringPointerValue(t.ServerName),
			CACert:        types.StringPointerValue(t.CACert),
			Verify:        types.BoolPointerValue(t.Verify),
			ExpiryWarning: NewDurationValue(t.ExpiryWarning),
		}
	}
	if h := s.Heartbeat; h != nil {
		token := types.StringPointerValue(h.Token)
		if prior != nil && prior.Heartbeat != nil && h.Token != nil {
			token = secret(*h.Token, prior.Heartbeat.Token)
		}
		m.Heartbeat = &heartbeatModel{
			Schedule: types.StringPointerValue(h.Schedule),
			Grace:    NewDurationValue(h.Grace),
			Token:    token,
		}
		if api.Status != nil && api.Status.PushURL != nil && *api.Status.PushURL != "" {
			u := *api.Status.PushURL
			if resolve != nil {
				u = resolve(u)
			}
			m.PushURL = types.StringValue(u)
		} else if prior != nil && !prior.PushURL.IsNull() && !prior.PushURL.IsUnknown() {
			m.PushURL = prior.PushURL
		}
	}
	return m
}

// kindOf names the check kind of an API monitor.
func kindOf(s client.MonitorSpec) string {
	switch {
	case s.HTTP != nil:
		return "http"
	case s.TCP != nil:
		return "tcp"
	case s.DNS != nil:
		return "dns"
	case s.TLS != nil:
		return "tls"
	case s.Heartbeat != nil:
		return "heartbeat"
	}
	return ""
}
