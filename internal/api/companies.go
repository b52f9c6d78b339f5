package api

func (s *Server) companyRoutes() {}
