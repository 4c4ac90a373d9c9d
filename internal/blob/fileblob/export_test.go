package fileblob

// SetRename replaces the store's rename (os.Rename), so that tests can
// make it fail as it does across file systems.
func SetRename(s *Store, rename func(oldpath, newpath string) error) { s.rename = rename }
