package client

// Monitor is a monitor as the server returns it; the spec has every default filled in.
type Monitor struct {
	ID        string            `json:"id"`
	Labels    map[string]string `json:"labels"`
	Spec      MonitorSpec       `json:"spec"`
	Status    *MonitorStatus    `json:"status,omitempty"`
	ManagedBy string            `json:"managed_by,omitempty"`
	Version   int64             `json:"version"`
	CreatedAt string            `json:"created_at,omitempty"`
	UpdatedAt string            `json:"updated_at,omitempty"`
}

// MonitorStatus is the read-only state of a monitor.
type MonitorStatus struct {
	State        string  `json:"state"`
	Since        *string `json:"since,omitempty"`
	OpenIncident *string `json:"open_incident,omitempty"`
	PushURL      *string `json:"push_url,omitempty"`
}

// MonitorSpec is the spec of a monitor (crates/model/src/spec.rs). Fields left at their zero
// value are omitted on writes so that the server fills in its default.
type MonitorSpec struct {
	Name             *string         `json:"name,omitempty"`
	Description      *string         `json:"description,omitempty"`
	HTTP             *HTTPCheck      `json:"http,omitempty"`
	TCP              *TCPCheck       `json:"tcp,omitempty"`
	DNS              *DNSCheck       `json:"dns,omitempty"`
	TLS              *TLSCheck       `json:"tls,omitempty"`
	Heartbeat        *HeartbeatCheck `json:"heartbeat,omitempty"`
	Interval         string          `json:"interval,omitempty"`
	Timeout          string          `json:"timeout,omitempty"`
	Retries          int64           `json:"retries,omitempty"`
	Assertions       []string        `json:"assertions,omitempty"`
	DegradedAfter    *string         `json:"degraded_after,omitempty"`
	FailureThreshold int64           `json:"failure_threshold,omitempty"`
	SuccessThreshold int64           `json:"success_threshold,omitempty"`
	Paused           bool            `json:"paused,omitempty"`
}

// HTTPCheck is an HTTP(S) request.
type HTTPCheck struct {
	URL             string            `json:"url"`
	Method          string            `json:"method,omitempty"`
	Headers         map[string]string `json:"headers,omitempty"`
	Body            *string           `json:"body,omitempty"`
	FollowRedirects *bool             `json:"follow_redirects,omitempty"`
	MaxRedirects    *int64            `json:"max_redirects,omitempty"`
	TLSVerify       *bool             `json:"tls_verify,omitempty"`
	CACert          *string           `json:"ca_cert,omitempty"`
	Auth            *HTTPAuth         `json:"auth,omitempty"`
	Version         string            `json:"version,omitempty"`
	MaxBodyBytes    int64             `json:"max_body_bytes,omitempty"`
}

// HTTPAuth holds exactly one of Basic and Bearer.
type HTTPAuth struct {
	Basic  *BasicAuth  `json:"basic,omitempty"`
	Bearer *BearerAuth `json:"bearer,omitempty"`
}

// BasicAuth is `Authorization: Basic`.
type BasicAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// BearerAuth is `Authorization: Bearer`.
type BearerAuth struct {
	Token string `json:"token"`
}

// TCPCheck is a TCP connection.
type TCPCheck struct {
	Host   string  `json:"host"`
	Port   int64   `json:"port"`
	Send   *string `json:"send,omitempty"`
	Expect *string `json:"expect,omitempty"`
}

// DNSCheck is a DNS query.
type DNSCheck struct {
	Name       string   `json:"name"`
	RecordType string   `json:"record_type,omitempty"`
	Resolver   *string  `json:"resolver,omitempty"`
	Transport  string   `json:"transport,omitempty"`
	Expect     []string `json:"expect,omitempty"`
	Rcode      string   `json:"rcode,omitempty"`
}

// TLSCheck is a TLS handshake and certificate check.
type TLSCheck struct {
	Host          string  `json:"host"`
	Port          int64   `json:"port,omitempty"`
	ServerName    *string `json:"server_name,omitempty"`
	CACert        *string `json:"ca_cert,omitempty"`
	Verify        *bool   `json:"verify,omitempty"`
	ExpiryWarning string  `json:"expiry_warning,omitempty"`
}

// HeartbeatCheck is a push monitor.
type HeartbeatCheck struct {
	Schedule *string `json:"schedule,omitempty"`
	Grace    string  `json:"grace,omitempty"`
	Token    *string `json:"token,omitempty"`
}

// MonitorWrite is the body of a create or replace.
type MonitorWrite struct {
	ID     string            `json:"id,omitempty"`
	Labels map[string]string `json:"labels"`
	Spec   MonitorSpec       `json:"spec"`
}

// MaintenanceSpec is the spec of a maintenance window (crates/model/src/maintenance.rs).
type MaintenanceSpec struct {
	Name        *string  `json:"name,omitempty"`
	Description *string  `json:"description,omitempty"`
	Start       *string  `json:"start,omitempty"`
	End         *string  `json:"end,omitempty"`
	Cron        *string  `json:"cron,omitempty"`
	RRule       *string  `json:"rrule,omitempty"`
	Duration    *string  `json:"duration,omitempty"`
	Monitors    []string `json:"monitors,omitempty"`
	Selector    *string  `json:"selector,omitempty"`
}

// MaintenanceWindow is a maintenance window as the server returns it.
type MaintenanceWindow struct {
	ID        string            `json:"id"`
	Labels    map[string]string `json:"labels"`
	Spec      MaintenanceSpec   `json:"spec"`
	ManagedBy string            `json:"managed_by,omitempty"`
	Version   int64             `json:"version"`
}

// MaintenanceWrite is the body of a create or replace.
type MaintenanceWrite struct {
	ID     string            `json:"id,omitempty"`
	Labels map[string]string `json:"labels"`
	Spec   MaintenanceSpec   `json:"spec"`
}
