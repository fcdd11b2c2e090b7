package migrations

// Files exposes the embedded migration files to the external test package (which cannot be
// package migrations itself: storetest imports store, which imports migrations).
var Files = files
