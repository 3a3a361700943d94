package client

// DiscoverySources is the collection of discovery sources (crates/model/src/discovery.rs).
var DiscoverySources = Collection[DiscoverySource, DiscoverySourceWrite]{path: "/api/v1/discovery-sources"}

// SecretRef names where the server reads a credential: an environment variable
// (`VEDETTE_DISCOVERY_...`) or a file under /run/secrets/; never the value itself.
type SecretRef struct {
	Env  *string `json:"env,omitempty"`
	File *string `json:"file,omitempty"`
}

// Credentials holds exactly one way of authenticating to the gateway.
type Credentials struct {
	Bearer   *BearerCredentials `json:"bearer,omitempty"`
	Basic    *BasicCredentials  `json:"basic,omitempty"`
	Header   *HeaderCredentials `json:"header,omitempty"`
	AWSSigV4 *AWSSigV4          `json:"aws_sigv4,omitempty"`
}

// BearerCredentials is `Authorization: Bearer <token>`.
type BearerCredentials struct {
	Token SecretRef `json:"token"`
}

// BasicCredentials is `Authorization: Basic`.
type BasicCredentials struct {
	Username string    `json:"username"`
	Password SecretRef `json:"password"`
}

// HeaderCredentials is one header of the gateway's choosing (`Kong-Admin-Token`).
type HeaderCredentials struct {
	Name  string    `json:"name"`
	Value SecretRef `json:"value"`
}

// AWSSigV4 is AWS Signature Version 4.
type AWSSigV4 struct {
	Region          string     `json:"region"`
	AccessKeyID     SecretRef  `json:"access_key_id"`
	SecretAccessKey SecretRef  `json:"secret_access_key"`
	SessionToken    *SecretRef `json:"session_token,omitempty"`
}

// TLSSettings are the TLS settings of the connection to the gateway.
type TLSSettings struct {
	CACert *string `json:"ca_cert,omitempty"`
}

// Connection is how the server reaches the gateway's API.
type Connection struct {
	URL         string       `json:"url"`
	Credentials *Credentials `json:"credentials,omitempty"`
	TLS         TLSSettings  `json:"tls"`
	Timeout     string       `json:"timeout,omitempty"`
	MaxBytes    int64        `json:"max_bytes,omitempty"`
}

// RouteFilter is one side of the filters; empty lists match everything.
type RouteFilter struct {
	Hosts      []string `json:"hosts,omitempty"`
	Paths      []string `json:"paths,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
	Stages     []string `json:"stages,omitempty"`
}

// Filters say which routes become monitors.
type Filters struct {
	Include RouteFilter `json:"include"`
	Exclude RouteFilter `json:"exclude"`
}

// Selection is the per-route opt-in or opt-out through the gateway's tags.
type Selection struct {
	OptIn     bool   `json:"opt_in"`
	OptInTag  string `json:"opt_in_tag"`
	OptOutTag string `json:"opt_out_tag"`
}

// MonitorTemplate is the monitor made for each route (text fields may hold placeholders).
type MonitorTemplate struct {
	Name             string            `json:"name"`
	URL              string            `json:"url"`
	Method           string            `json:"method"`
	Headers          map[string]string `json:"headers,omitempty"`
	Interval         string            `json:"interval"`
	Timeout          string            `json:"timeout"`
	ExpectedStatus   *int64            `json:"expected_status,omitempty"`
	Assertions       []string          `json:"assertions,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	TLSVerify        bool              `json:"tls_verify"`
	FailureThreshold int64             `json:"failure_threshold"`
}

// DiscoverySourceSpec is the spec of a discovery source.
type DiscoverySourceSpec struct {
	Name        *string          `json:"name,omitempty"`
	Type        string           `json:"type"`
	Connection  Connection       `json:"connection"`
	Interval    string           `json:"interval,omitempty"`
	GracePeriod string           `json:"grace_period,omitempty"`
	DryRun      bool             `json:"dry_run"`
	Filters     Filters          `json:"filters"`
	Selection   *Selection       `json:"selection,omitempty"`
	Template    *MonitorTemplate `json:"template,omitempty"`
	MaxRoutes   int64            `json:"max_routes,omitempty"`
}

// DiscoveryStatus is what the server reports about a source's last run; it never holds a
// credential.
type DiscoveryStatus struct {
	State          string   `json:"state"`
	LastRun        *string  `json:"last_run,omitempty"`
	LastSuccess    *string  `json:"last_success,omitempty"`
	Error          *string  `json:"error,omitempty"`
	DurationMS     int64    `json:"duration_ms"`
	RoutesSeen     int64    `json:"routes_seen"`
	RoutesSelected int64    `json:"routes_selected"`
	MonitorsOwned  int64    `json:"monitors_owned"`
	Created        int64    `json:"created"`
	Updated        int64    `json:"updated"`
	Deleted        int64    `json:"deleted"`
	Conflicts      []string `json:"conflicts,omitempty"`
}

// DiscoverySource is a discovery source as the server returns it.
type DiscoverySource struct {
	ID        string              `json:"id"`
	Labels    map[string]string   `json:"labels"`
	Spec      DiscoverySourceSpec `json:"spec"`
	Status    DiscoveryStatus     `json:"status"`
	ManagedBy string              `json:"managed_by,omitempty"`
	Version   int64               `json:"version"`
}

// DiscoverySourceWrite is the body of a create or replace.
type DiscoverySourceWrite struct {
	ID     string              `json:"id,omitempty"`
	Labels map[string]string   `json:"labels"`
	Spec   DiscoverySourceSpec `json:"spec"`
}
