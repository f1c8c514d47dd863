// Package faulttest runs the real switchboard binary against a private PostgreSQL cluster
// that the tests stop, restart and share between processes, to prove the service survives
// what deployments meet: the database going away, a process killed mid-request, SIGTERM,
// two replicas, slow clients. It holds tests only.
package faulttest
