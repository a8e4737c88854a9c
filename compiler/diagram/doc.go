// Package diagram draws compiled journeys as state diagrams that a reviewer
// can paste into a pull request: Mermaid (stateDiagram-v2, which GitHub
// renders in Markdown) and Graphviz dot.
//
// Data flows in two steps. build turns each ir.Journey into a small graph
// that both formats share: the journey's stages (with the sends, updates and
// emits they run), its entries (edges from the start, labelled with the
// event and the `when` source), every transition as a labelled edge ("after
// 2d", "on support_ticket_opened", "at <expr>", a branch's `when` source or
// "else", a split variant as "45% sms", no label for goto), and its goals and
// exits as the end states "converted" and "exited", reached from anywhere in
// the journey. A stage that ends the journey (goto = end, or no transition)
// leads to the end state, which means completed. The renderers then write
// that graph out; they quote and escape every label and never use a stage's
// name as an identifier without sanitising it.
//
// MermaidMarked draws one journey of a change (the plan's pull-request
// comment, compiler/diff): its stages styled by the classes added, changed,
// moved and removed, removed stages drawn beside the rest with an edge to
// where their customers go. Mermaid cannot style states inside a composite
// state, so that drawing is flat and leaves goals and exits out.
//
// Output is deterministic: journeys, stages and transitions come out in the
// IR's order, which is source order.
package diagram
