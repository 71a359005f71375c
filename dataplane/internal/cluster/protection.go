package cluster

// Protection is how a stream this node leads (and ingests) is guarded
// against this node's death.
type Protection string

// Protections, from best to worst.
const (
	// ProtectionTwinZone: a hot standby in the twin zone, which survives
	// the loss of this node and of its zone.
	ProtectionTwinZone Protection = "twin-zone"
	// ProtectionSameZone: the twin zone has no node that accepts (lost, or
	// its only node dead), so the standby is another node of this zone: it
	// survives this node's death, not its zone's. The leader moves it to
	// the twin zone as soon as a node there accepts.
	ProtectionSameZone Protection = "same-zone"
	// ProtectionNone: no standby; this node's death is a black screen.
	ProtectionNone Protection = "none"
)

// setProtection records the stream's protection and logs each change once
// (not each time the leader retries), with why when there is none.
func (j *job) setProtection(p Protection, standby, why string) {
	j.mu.Lock()
	changed := j.leader.protection != p || (p == ProtectionNone && j.leader.protectionWhy != why)
	j.leader.protection, j.leader.protectionWhy = p, why
	j.mu.Unlock()
	if !changed {
		return
	}
	switch p {
	case ProtectionNone:
		j.log.Warn("stream has no hot standby: this node's death would stop it", "reason", why)
	case ProtectionSameZone:
		j.log.Warn("hot standby in this node's own zone: the twin zone has no node that accepts", "standby", standby)
	default:
		j.log.Info("hot standby in the twin zone", "standby", standby)
	}
}

// protectionNow is the protection of a stream this node leads and
// ingests ("" otherwise: the node that ingests decides).
func (j *job) protectionNow() Protection {
	if !j.leading() {
		return ""
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ingest.live {
		return ""
	}
	return j.leader.protection
}
