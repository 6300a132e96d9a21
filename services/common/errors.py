"""The root of every error a user or operator can act on.

    NewswireError          the message says what is wrong and what to do; the CLI prints it
    ├── SettingsError      (common.settings) a NEWSWIRE_* variable is missing or malformed
    ├── FeedRegistryError  (ingest.feeds) the feed registry cannot be read
    ├── SchemaOutOfDateError (store.errors) the database needs `newswire migrate`
    └── LaunchError        (launch) something `newswire run` needs is missing

Services define their own subclasses; the CLI catches only this root, so an image that carries one
service's dependencies never imports another service to print an error.
"""


class NewswireError(Exception):
    """An error with a message meant for the person running Newswire."""
