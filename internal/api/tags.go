package api

func (s *Server) tagRoutes() {}
