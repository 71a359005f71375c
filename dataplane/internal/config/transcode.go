package config

// Transcode configures the ladder encoder. Owned by the transcode area; it
// starts minimal so that the key exists in the contract from day one.
type Transcode struct {
	Enabled bool `yaml:"enabled" usage:"transcode the source into a ladder of renditions"`
}
