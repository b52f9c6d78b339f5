package api

func (s *Server) noteRoutes() {}
