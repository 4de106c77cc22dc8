using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;

namespace PciPassthrough.TestSupport;

/// <summary>
/// A PowerShell host whose console is a string: <c>Out-Host</c> (which the Core-only engine has) renders
/// the module's format views into it, so tests can read the table a user would see.
/// </summary>
internal sealed class CapturingHost : PSHost
{
    private readonly CapturingUi _ui = new();

    /// <summary>What a plain-text terminal would show: table headers carry $PSStyle escapes, stripped here.</summary>
    public string Text => System.Text.RegularExpressions.Regex.Replace(_ui.Buffer.ToString(), "\u001b\\[[0-9;]*m", "");

    public void Clear() => _ui.Buffer.Clear();

    /// <summary>Answers for the next confirmation prompts, by choice label ("Yes", "No"); a prompt with none left throws.</summary>
    public Queue<string> ChoiceAnswers => _ui.ChoiceAnswers;

    /// <summary>Every confirmation prompt asked, as "caption|message".</summary>
    public List<string> Prompts => _ui.Prompts;

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override string Name => "PciPassthroughTestHost";

    public override PSHostUserInterface UI => _ui;

    public override Version Version => new(1, 0);

    public override void EnterNestedPrompt() => throw new NotSupportedException();

    public override void ExitNestedPrompt() => throw new NotSupportedException();

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    public override void SetShouldExit(int exitCode)
    {
    }

    private sealed class CapturingUi : PSHostUserInterface
    {
        public StringBuilder Buffer { get; } = new();

        public override PSHostRawUserInterface RawUI { get; } = new Raw();

        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) => throw new NotSupportedException("Tests never prompt.");

        public Queue<string> ChoiceAnswers { get; } = new();

        public List<string> Prompts { get; } = [];

        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice)
        {
            if (!ChoiceAnswers.TryDequeue(out var answer))
            {
                throw new NotSupportedException("Tests never prompt unless they queue an answer; pass -Confirm:$false.");
            }

            Prompts.Add(caption + "|" + message);
            var index = choices.ToList().FindIndex(c => c.Label.Replace("&", "", StringComparison.Ordinal) == answer);
            return index >= 0 ? index : throw new ArgumentException($"No choice '{answer}' among {string.Join(", ", choices.Select(c => c.Label))}.");
        }

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();

        public override string ReadLine() => "";

        public override SecureString ReadLineAsSecureString() => new();

        public override void Write(string value) => Buffer.Append(value);

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Buffer.Append(value);

        public override void WriteLine(string value) => Buffer.Append(value).Append('\n');

        public override void WriteErrorLine(string value) => Buffer.Append(value).Append('\n');

        public override void WriteDebugLine(string message)
        {
        }

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
        }

        public override void WriteVerboseLine(string message)
        {
        }

        public override void WriteWarningLine(string message)
        {
        }
    }

    private sealed class Raw : PSHostRawUserInterface
    {
        public override ConsoleColor BackgroundColor { get; set; }

        public override Size BufferSize { get; set; } = new(160, 9999);

        public override Coordinates CursorPosition { get; set; }

        public override int CursorSize { get; set; }

        public override ConsoleColor ForegroundColor { get; set; }

        public override bool KeyAvailable => false;

        public override Size MaxPhysicalWindowSize => new(160, 100);

        public override Size MaxWindowSize => new(160, 100);

        public override Coordinates WindowPosition { get; set; }

        public override Size WindowSize { get; set; } = new(160, 100);

        public override string WindowTitle { get; set; } = "";

        public override void FlushInputBuffer()
        {
        }

        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => new BufferCell[0, 0];

        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();

        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill)
        {
        }

        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents)
        {
        }

        public override void SetBufferContents(Rectangle rectangle, BufferCell fill)
        {
        }
    }
}
