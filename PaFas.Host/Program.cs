namespace PaFas.Host;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("pafas: skeleton");
        return 0;
    }
}
