"""Journeys: requests the platform's AI applications send, walked hop by hop through the recorded plan
(CloudFront's CSP, WAF, API Gateway, VPC link, load balancer, target group, container; S3 for uploads) and
decided against each hop's documented limit. docs/traffic.md."""
