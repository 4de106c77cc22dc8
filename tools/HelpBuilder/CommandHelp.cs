namespace PciPassthrough.HelpBuilder;

// The help of one cmdlet as a PlatyPS page holds it. Text is a list of lines, each of which becomes
// one maml:para (as PlatyPS renders them): a paragraph is one line, a list has a line per item.

internal sealed record CommandHelp(
    string Name,
    string HelpFileName,
    IReadOnlyList<string> Synopsis,
    IReadOnlyList<string> Description,
    IReadOnlyList<ParameterHelp> Parameters,
    IReadOnlyList<SyntaxItem> Syntax,
    IReadOnlyList<TypeHelp> Inputs,
    IReadOnlyList<TypeHelp> Outputs,
    IReadOnlyList<string> Notes,
    IReadOnlyList<ExampleHelp> Examples,
    IReadOnlyList<LinkHelp> Links);

/// <summary>A parameter: its description and one metadata block per group of parameter sets.</summary>
internal sealed record ParameterHelp(string Name, IReadOnlyList<string> Description, IReadOnlyList<ParameterMetadata> Metadata);

/// <summary>One ```yaml block of a parameter, as PlatyPS writes it.</summary>
internal sealed record ParameterMetadata(
    string Type,
    IReadOnlyList<string> ParameterSets,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<string> AcceptedValues,
    bool Required,
    string Position,
    string? DefaultValue,
    string PipelineInput,
    bool Globbing)
{
    public bool IsSwitch => Type is "SwitchParameter" or "System.Management.Automation.SwitchParameter" or "switch";
}

/// <summary>One parameter set's syntax line; Name is null when the cmdlet has a single set.</summary>
internal sealed record SyntaxItem(string? Name, IReadOnlyList<(ParameterHelp Parameter, ParameterMetadata Metadata)> Parameters);

internal sealed record TypeHelp(string TypeName, IReadOnlyList<string> Description);

internal sealed record ExampleHelp(string Title, string Code, IReadOnlyList<string> Remarks);

internal sealed record LinkHelp(string Text, string Uri);
