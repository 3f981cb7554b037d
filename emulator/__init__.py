"""A local emulator of Amazon EventBridge, Amazon SNS and Amazon Kinesis Data Streams."""

__version__ = "0.1.0"
