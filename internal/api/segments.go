package api

func (s *Server) segmentRoutes() {}
