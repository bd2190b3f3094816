"""Search of conversations: the `filters` of conversations.list and the indexes that answer them.

`terms`: what a conversation is indexed and matched under. `query`: the filters language,
parsed and bounded. `plan`: a query as set algebra over the indexes. `match`: a query evaluated
on one conversation. `set_algebra`: a plan run in one partition's indexes in Redis. `answer`:
the filtered page (indexes where they answer, evaluation where not). `index_writes`: the
projector's writes that keep the indexes in step with the conversations.
"""
