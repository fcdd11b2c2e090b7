// Package composetest checks the production stack (docker-compose.yml, Dockerfile and the files
// under deploy/) without a container engine: services, commands, start order, image tags against
// go.mod, every redress environment variable against config.Vars, and the wiring between
// PostgreSQL, Temporal and redress. It has no non-test code.
package composetest
