"""Loopback fakes of the services takopi_nb talks to. Each speaks the real wire format."""
