package cluster

// Stats is a snapshot of the node's view of the cluster, for metrics.
type Stats struct {
	// Degraded: the node is cut off from NATS (see Degraded).
	Degraded bool
	// NodesAlive counts the nodes whose heartbeat this node sees, itself
	// included while its own is in the bucket.
	NodesAlive int
	// RoomFollowers counts this node's room stream followers (one per
	// room with members here), and FollowedRooms the rooms they follow.
	RoomFollowers, FollowedRooms int
}

// Stats returns the node's counters. Safe from any goroutine; it takes
// the presence view's and the room streams' locks once each.
func (n *Node) Stats() Stats {
	var st Stats
	st.Degraded, _ = n.Degraded()
	if p := n.presence; p != nil {
		p.mu.Lock()
		st.NodesAlive = len(p.alive)
		p.mu.Unlock()
	}
	if r := n.streams; r != nil {
		r.mu.Lock()
		st.RoomFollowers = len(r.followers)
		st.FollowedRooms = len(r.rooms)
		r.mu.Unlock()
	}
	return st
}
