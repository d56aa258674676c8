"""The demo's boto3 clients: any AWS service Loam serves, at the demo server's endpoint, with the
demo's dummy credentials (Loam accepts any signature)."""

import boto3


def client(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="loam", aws_secret_access_key="loam")
