"""Access control: who is asking (principals from API keys or identity tokens), what they may read (document
ACLs, enforced inside both indexes before ranking) and what they did (the audit log)."""
