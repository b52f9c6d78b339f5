package api

func (s *Server) importRoutes() {}
