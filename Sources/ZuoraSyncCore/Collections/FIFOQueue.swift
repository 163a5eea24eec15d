/// Items in arrival order, taken from the front without moving the rest: an array and the
/// position of its first item still there. The part taken is dropped once it is most of the
/// array, so a queue that never empties (work that keeps coming, requests that keep waiting)
/// holds about what it still has.
public struct FIFOQueue<Element> {
    private var items: [Element] = []
    private var head = 0

    public init() {}

    public var isEmpty: Bool { head == items.count }
    public var count: Int { items.count - head }

    public mutating func append(_ item: Element) { items.append(item) }

    /// The oldest item, taken out.
    public mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    /// The oldest item that `matches`, taken out (the others keep their order).
    public mutating func remove(firstWhere matches: (Element) -> Bool) -> Element? {
        guard let index = items[head...].firstIndex(where: matches) else { return nil }
        return items.remove(at: index)
    }

    /// Keeps only the items that `isKept`, in their order.
    public mutating func keep(where isKept: (Element) -> Bool) {
        items = items[head...].filter(isKept)
        head = 0
    }

    public mutating func removeAll() {
        items = []
        head = 0
    }
}
