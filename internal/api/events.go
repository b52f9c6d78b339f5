package api

func (s *Server) eventRoutes() {}
