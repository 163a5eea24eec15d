/// The names of the files every stage directory may hold, declared once.
public enum StageFiles {
    /// Written last: the stage finished and its outputs are whole.
    public static let commit = "commit.json"
    /// The stage's typed result, read by later stages.
    public static let result = "result.json"
    /// What a stage that changes the store will do, written before it does it.
    public static let plan = "plan.json"
}
