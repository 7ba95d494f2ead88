"""Third-party components in the evaluated tree: version signatures, copies and inventory."""
