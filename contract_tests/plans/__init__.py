"""What the contract tests send, and why: one module per kind of test.

Each plan builds its requests from the target profile as data (so that a dry run lists
them without sending anything) together with the judge of each answer. Without writes,
every request of every plan names the profile's unknown customer, an id no customer can
have, or no customer at all; requests that need the test customer are "not run (needs
--allow-writes)". ``target.Target`` enforces the same rule on every request it sends.
"""
