public enum GoModSandbox {}
