package client

// StatusPages is the collection of status pages (crates/model/src/status_page.rs).
var StatusPages = Collection[StatusPage, StatusPageWrite]{path: "/api/v1/status-pages"}

// StatusPageSpec is the spec of a status page. Optional texts are nil when absent.
type StatusPageSpec struct {
	Title        string        `json:"title"`
	Slug         string        `json:"slug"`
	Description  *string       `json:"description,omitempty"`
	LogoURL      *string       `json:"logo_url,omitempty"`
	Groups       []StatusGroup `json:"groups"`
	Show         *ShowFigures  `json:"show,omitempty"`
	Announcement *string       `json:"announcement,omitempty"`
	CustomDomain *string       `json:"custom_domain,omitempty"`
}

// StatusGroup is a group of monitors on a page: named by id, matched by a selector, or both.
type StatusGroup struct {
	Name     string        `json:"name"`
	Monitors []PageMonitor `json:"monitors,omitempty"`
	Selector *string       `json:"selector,omitempty"`
}

// PageMonitor is one monitor named on a page, with an optional display name.
type PageMonitor struct {
	ID   string  `json:"id"`
	Name *string `json:"name,omitempty"`
}

// ShowFigures says which figures a page shows.
type ShowFigures struct {
	Uptime      bool `json:"uptime"`
	Latency     bool `json:"latency"`
	Incidents   bool `json:"incidents"`
	Maintenance bool `json:"maintenance"`
	Messages    bool `json:"messages"`
}

// DefaultShowFigures is what the server assumes when a page leaves `show` out.
var DefaultShowFigures = ShowFigures{Uptime: true, Incidents: true, Maintenance: true}

// StatusPage is a status page as the server returns it.
type StatusPage struct {
	ID         string            `json:"id"`
	Labels     map[string]string `json:"labels"`
	Spec       StatusPageSpec    `json:"spec"`
	PublicPath string            `json:"public_path,omitempty"`
	ManagedBy  string            `json:"managed_by,omitempty"`
	Version    int64             `json:"version"`
}

// StatusPageWrite is the body of a create or replace.
type StatusPageWrite struct {
	ID     string            `json:"id,omitempty"`
	Labels map[string]string `json:"labels"`
	Spec   StatusPageSpec    `json:"spec"`
}
