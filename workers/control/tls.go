package control

import "time"

// TLSStatus is the listener's TLS state: the certificates serving now and
// the last replacement refused.
type TLSStatus struct {
	Certificates []TLSCert `json:"certificates"`
	LoadedAt     time.Time `json:"loaded_at"`
	// LastRefused is the last new content of the files that was refused
	// (the serving set stayed), nil if none since the last good one.
	LastRefused *Refusal `json:"last_refused,omitempty"`
}

// TLSCert is one serving certificate.
type TLSCert struct {
	Subject  string    `json:"subject"`
	Names    []string  `json:"names,omitempty"`
	Serial   string    `json:"serial"` // hex
	NotAfter time.Time `json:"not_after"`
}
