package config

// Cluster configures the twin-zone coordination (issue 4's contract). Owned by
// the cluster area; plain structs so far.
type Cluster struct {
	QUIC  ClusterQUIC  `yaml:"quic"`
	TLS   ClusterTLS   `yaml:"tls"`
	Redis ClusterRedis `yaml:"redis"`
}

// ClusterQUIC is the hot-standby relay listener.
type ClusterQUIC struct {
	Listen string `yaml:"listen" usage:"QUIC relay listen address (UDP host:port); empty disables clustering"`
}

// ClusterTLS holds the PEM files of the relay's mutual TLS.
type ClusterTLS struct {
	CA   string `yaml:"ca" usage:"PEM CA certificate that signs every node"`
	Cert string `yaml:"cert" usage:"PEM certificate of this node"`
	Key  string `yaml:"key" usage:"PEM private key of this node"`
}

// ClusterRedis locates the Redis primary through Sentinel.
type ClusterRedis struct {
	Sentinels []string `yaml:"sentinels" usage:"Redis Sentinel addresses (host:port, comma-separated as a flag)"`
	Master    string   `yaml:"master" usage:"Sentinel master name"`
}
