"""Deployment artifacts: Dockerfile, compose, load balancer, Kubernetes, their docs."""
