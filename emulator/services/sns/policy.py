"""Topic access policies: the default policy AWS generates, AddPermission / RemovePermission edits, and
whether a policy lets another account do an action. (being written)"""

from __future__ import annotations

from emulator.services.sns.models import Topic


def default_policy(topic: Topic) -> str:
    """The policy JSON AWS gives a new topic."""
    raise NotImplementedError


def allows(topic: Topic, account: str, action: str) -> bool:
    """Does the topic's policy let ``account`` do ``action`` ("SNS:Publish")? The owner always may."""
    raise NotImplementedError
