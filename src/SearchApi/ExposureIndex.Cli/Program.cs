// Placeholder entry point; the command tree is being built (issue 2).
return 0;
