// Package apitest holds the integration tests of the HTTP API: a full server (database of
// each dialect, demo organisation, embedded Temporal server, worker, intake, API) driven over
// HTTP. Every test that needs Temporal lives here, so that the server is linked and started
// once (TestMain).
package apitest
